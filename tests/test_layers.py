"""The package's layers: arrows point down only, no import cycles, and the lower layers run
without the heavy libraries (every import counts, those inside functions too).

    speechmill (cli, report, inspect, bench)   the front door: nothing imports it
    pipelines/   Beam jobs                     train/   Keras, tf.data (never pipelines)
    teachers/    pretrained recognizers        no TensorFlow, no Beam
    runtime/  ->  lm/                          no TensorFlow, no Beam
    augment/     effects (numpy; TF ops apart)
    corpus/      contract, sources, cleaning, storage, the corpus reader
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FOLDERS = {
    "corpus": "corpus",
    "augment": "augment",
    "lm": "lm",
    "runtime": "runtime",
    "teachers": "teachers",
    "train": "train",
    "pipelines": "pipelines",
    "speechmill": "speechmill",
}
RANK = {
    "corpus": 0,
    "augment": 1,
    "lm": 2,
    "runtime": 3,
    "teachers": 4,
    "train": 5,
    "pipelines": 6,
    "speechmill": 7,
}
HEAVY = ("tensorflow", "keras", "apache_beam")
# The few places a lower layer may reach a heavy library, each inside a function, each for a reason.
ALLOWED_HEAVY = {
    (
        "speechmill.corpus.schema",
        "tensorflow",
    ): "parse_example: the reader's half of the record contract",
    ("speechmill.corpus.storage", "apache_beam"): "Beam's file systems when Beam is installed",
    ("speechmill.augment.tf_ops", "tensorflow"): "the on-the-fly ops (training imports them)",
    ("speechmill.runtime.recognizer", "tensorflow"): "the SavedModel backend, only when asked for",
}
NO_HEAVY = ("corpus", "augment", "lm", "runtime", "teachers")


def module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    package = {folder: name for name, folder in FOLDERS.items()}[parts[0]]
    parts[0] = "speechmill" if package == "speechmill" else f"speechmill.{package}"
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> str:
    parts = module.split(".")
    return (
        parts[1]
        if len(parts) > 1 and parts[1] in RANK and parts[1] != "speechmill"
        else "speechmill"
    )


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def graph() -> dict[str, set[str]]:
    modules = {
        module_name(p): p for folder in FOLDERS.values() for p in (REPO / folder).rglob("*.py")
    }
    edges = {}
    for name, path in modules.items():
        edges[name] = {m for m in imports_of(path) if m in modules and m != name}
        edges[name] |= {
            "heavy:" + m.split(".")[0] for m in imports_of(path) if m.split(".")[0] in HEAVY
        }
    return edges


def test_only_one_top_level_package_is_installed(tmp_path):
    """`pip install speechmill` gives `speechmill` and nothing named corpus, train, lm ..."""
    code = (
        "import importlib.util, sys; import speechmill.corpus.schema, speechmill.train, speechmill.lm;"
        "print(sorted(n for n in ('corpus', 'train', 'lm', 'runtime', 'pipelines', 'augment', 'benchmarks')"
        " if importlib.util.find_spec(n)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout


def test_imports_point_down_only():
    wrong = []
    for module, targets in graph().items():
        for target in targets:
            if target.startswith("heavy:"):
                continue
            a, b = layer_of(module), layer_of(target)
            if a != b and (RANK[b] >= RANK[a] or b == "speechmill"):
                wrong.append(f"{module} ({a}) imports {target} ({b})")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_cycles():
    edges = {m: {t for t in ts if not t.startswith("heavy:")} for m, ts in graph().items()}
    cycles, state = [], {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(" -> ".join(path[path.index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert not cycles, "\n".join(cycles)


def test_lower_layers_do_not_import_tensorflow_or_beam():
    wrong = [
        f"{module} imports {target[6:]}"
        for module, targets in graph().items()
        for target in targets
        if target.startswith("heavy:")
        and layer_of(module) in NO_HEAVY
        and (module, target[6:]) not in ALLOWED_HEAVY
    ]
    assert not wrong, "\n".join(sorted(wrong))


BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('tensorflow', 'keras', 'apache_beam'):
            raise ImportError('blocked: ' + name)
sys.meta_path.insert(0, Block())
"""


def test_a_corpus_is_read_without_tensorflow_or_beam(librispeech_corpus):
    """The reader, inspect and the language-model build read a corpus with TF and Beam absent."""
    code = (
        BLOCK
        + f"""
from speechmill.corpus.reader import load_info, utterances, corrupt_shards
from speechmill.lm.build import corpus_transcripts
import speechmill.commands.inspect, speechmill.report
folder = {str(librispeech_corpus)!r}
info = load_info(folder)
n = sum(1 for split in info['splits'] for _ in utterances(folder, info, split))
assert n == sum(s['examples'] for s in info['splits'].values()), n
assert corrupt_shards(folder, info) == []
assert len(corpus_transcripts(folder, ('train',))) == info['splits']['train']['examples']
print(n)
"""
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) > 0
