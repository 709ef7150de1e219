"""Subtitles and captions into timed utterances (used by the movies and YouTube sources).

``parse``: bytes in any encoding -> cues (SRT, WebVTT, rolling auto-captions unrolled);
``clean``: cue text cleanup (tags, speaker labels, sound and song cues);
``sync``: speech activity and the subtitle offset / framerate ratio that fits it;
``spans``: cleaned cues -> utterance spans fitted to the speech.
"""
