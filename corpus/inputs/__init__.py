"""Getting raw inputs that sources read: downloads, archives, media files, books, speech synthesis.

``fetch``: HTTP downloads with resume, retries and md5 into a cache; ``archive``: tar members
read as a stream with hostile members rejected; ``media``: audio and subtitle streams through
ffmpeg; ``book``: Project Gutenberg text into speakable pieces; ``tts``: pyttsx3 on espeak-ng in
a bounded child process.
"""
