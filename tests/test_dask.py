"""The same Beam job on a real Dask distributed cluster gives the same corpus."""

from conftest import build, read_corpus, write_config


def test_direct_runner_and_local_dask_cluster_build_the_same_corpus(tmp_path, librispeech):
    config = write_config(
        tmp_path / "c.toml",
        f"""
        [[source]]
        type = "librispeech"
        path = "{librispeech}"
        """,
    )
    direct = build(config, tmp_path / "direct")
    dask = build(config, tmp_path / "dask", "--dask", "local:2")
    assert direct == dask
    for split in direct["splits"]:
        a, b = read_corpus(tmp_path / "direct", split), read_corpus(tmp_path / "dask", split)
        assert [r["id"] for r in a] == [r["id"] for r in b] and len(a) > 0
        for x, y in zip(a, b):
            assert x["text"] == y["text"] and (x["audio"] == y["audio"]).all()
        for name in direct["splits"][split]["shards"]:
            assert (tmp_path / "direct" / name).read_bytes() == (
                tmp_path / "dask" / name
            ).read_bytes()
