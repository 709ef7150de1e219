"""The same Beam job on a real Dask distributed cluster, and on the DirectRunner with any
number of workers, gives the same corpus, byte for byte, for a corpus of many units."""

import pytest
from support.jobs import build, many_config, published
from support.speech import tiny_librispeech


@pytest.fixture(scope="module")
def many_units(tmp_path_factory):
    return tiny_librispeech(tmp_path_factory.mktemp("many"), chapters=24, per_chapter=6)


@pytest.mark.slow
def test_dask_with_three_workers_and_two_direct_workers_give_the_in_process_build(
    tmp_path, many_units
):
    config = many_config(tmp_path, many_units)
    one = build(config, tmp_path / "one")
    two = build(
        config, tmp_path / "two", "--direct_num_workers=2", "--direct_running_mode=multi_processing"
    )
    dask = build(config, tmp_path / "dask", "--dask", "local:3")
    assert one == two == dask and len(one["splits"]["train"]["shards"]) > 1
    assert (
        published(tmp_path / "one") == published(tmp_path / "two") == published(tmp_path / "dask")
    )
