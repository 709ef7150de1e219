"""Apply an effect chain to an utterance: ``augment_utterance(utt, chain, ...) -> Utterance``.

:class:`Banks` holds what noise and reverb draw from, loaded once per worker: noise files
from a folder (e.g. MUSAN), room impulse responses from a folder, and a few utterances of
the corpus itself for babble. Without folders, noise is white/pink/brown/babble and reverb
uses rooms simulated by pyroomacoustics (``effects.room_rir``).
"""

from __future__ import annotations

import dataclasses
import io

import numpy as np
import soundfile

from speechmill.augment import effects
from speechmill.augment.recipe import Chain, chain_label
from speechmill.corpus import storage
from speechmill.corpus.audio import float_to_pcm16, to_corpus_format
from speechmill.corpus.measures import NONE
from speechmill.corpus.schema import Utterance
from speechmill.corpus.types import stable_hash

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".mp3")


@dataclasses.dataclass
class Banks:
    noises: list[np.ndarray] = dataclasses.field(default_factory=list)
    rirs: list[np.ndarray] = dataclasses.field(default_factory=list)
    babble: list[np.ndarray] = dataclasses.field(default_factory=list)

    def noise_energy(self, i: int) -> np.ndarray:
        """Running sums of bank noise ``i``'s squared samples, made once a worker: the level of
        any piece of it is then two lookups, not a pass over the piece."""
        cache = self.__dict__.setdefault("_energies", {})
        if i not in cache:
            cache[i] = effects.running_energy(self.noises[i])
        return cache[i]

    @property
    def noise_kinds(self) -> list[str]:
        return (
            ["white", "pink", "brown"]
            + (["babble"] if self.babble else [])
            + (["bank"] if self.noises else [])
        )


def load_folder(folder: str | None, rate: int, max_seconds: float = 600.0) -> list[np.ndarray]:
    """Every audio file under ``folder`` as float32 mono at ``rate`` (at most ``max_seconds`` each)."""
    if not folder:
        return []
    paths = sorted(
        m.path
        for m in storage.match(f"{folder.rstrip('/')}/**")
        if m.path.lower().endswith(AUDIO_EXTENSIONS)
    )
    if not paths:
        raise effects.EffectError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) under {folder}")
    out = []
    for path in paths:
        with storage.open_read(path) as f:
            samples, file_rate = soundfile.read(
                io.BytesIO(f.read()), dtype="float32", frames=int(max_seconds * 48000)
            )
        out.append(to_corpus_format(samples, file_rate, rate).astype(np.float32) / 32768.0)
    return out


def _rng(seed: int, utt_id: str, chain: Chain, what: str) -> np.random.Generator:
    return np.random.default_rng(stable_hash("augment-audio", seed, utt_id, chain, what))


def apply_chain(x: np.ndarray, rate: int, chain: Chain, banks: Banks, rng_for) -> np.ndarray:
    """float32 audio -> float32 audio with every effect of the chain applied in order."""
    for effect, value in chain:
        x = effects.EFFECTS[effect].apply(x, rate, value, banks, rng_for)
    return x


def augment_utterance(
    utt: Utterance, chain: Chain, rate: int, banks: Banks, seed: int
) -> Utterance:
    """A copy of ``utt`` with the chain applied, a visible id suffix and its ``augment`` field."""
    x = utt.audio.astype(np.float32) / 32768.0
    y = apply_chain(x, rate, chain, banks, lambda what: _rng(seed, utt.id, chain, what))
    suffix, field = chain_label(chain)
    augment = f"{utt.augment},{field}" if utt.augment else field
    stretch = 1.0  # word timings follow the effects that change durations
    for effect, value in chain:
        if effects.EFFECTS[effect].stretches:
            stretch /= value
    times = tuple(round(t * stretch, 3) for t in utt.word_times)
    return dataclasses.replace(  # the original's measures are not the copy's: unmeasured
        utt,
        id=utt.id + suffix,
        audio=float_to_pcm16(y),
        augment=augment,
        word_times=times,
        measures=NONE,
    )
