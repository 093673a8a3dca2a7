"""RequestLogWriter on a real disk: TFRecord files, rotation, a full queue, failures."""

import logging
import threading

import pytest
import tensorflow as tf

from serving.apis.tfs.request_log_writer import PendingRecord, RequestLogWriter
from serving.metrics.recorders import REGISTRY


def _records(paths) -> list[bytes]:
    return [record.numpy() for path in paths for record in tf.data.TFRecordDataset(path)]


def _log_count(model: str, status: str) -> float:
    return REGISTRY.get_sample_value(":tensorflow:serving:request_log_count_total",
                                     {"model_name": model, "status_code": status}) or 0.0


def _record(model: str, data: bytes) -> PendingRecord:
    return PendingRecord(model, lambda: data)


def test_records_are_written_as_tfrecords_and_counted_ok(tmp_path):
    before = _log_count("writer_ok", "OK")
    writer = RequestLogWriter(str(tmp_path / "logs" / "m"))
    for index in range(5):
        assert writer.submit(_record("writer_ok", b"record %d" % index))
    assert writer.flush()
    assert _records(writer.paths) == [b"record %d" % index for index in range(5)]
    assert _log_count("writer_ok", "OK") == before + 5
    writer.close()
    assert writer.paths[0].startswith(str(tmp_path / "logs" / "m-"))
    assert writer.paths[0].endswith("-00000.tfrecord")


def test_a_new_file_starts_after_max_file_records(tmp_path):
    writer = RequestLogWriter(str(tmp_path / "m"), max_file_records=3)
    for index in range(7):
        writer.submit(_record("writer_rotate", b"%d" % index))
    writer.close()
    assert [len(_records([path])) for path in writer.paths] == [3, 3, 1]
    assert _records(writer.paths) == [b"%d" % index for index in range(7)]


def test_a_full_queue_drops_records_without_blocking_and_counts_them(tmp_path):
    started, release = threading.Event(), threading.Event()
    writer = RequestLogWriter(str(tmp_path / "m"), queue_size=2)

    def stuck() -> bytes:  # a disk that does not answer
        started.set()
        release.wait(30)
        return b"first"

    before = _log_count("writer_full", "RESOURCE_EXHAUSTED")
    assert writer.submit(PendingRecord("writer_full", stuck))
    assert started.wait(30)
    accepted = [writer.submit(_record("writer_full", b"more")) for _ in range(10)]
    release.set()
    writer.close()
    assert accepted == [True, True] + [False] * 8
    assert _log_count("writer_full", "RESOURCE_EXHAUSTED") == before + accepted.count(False)
    assert len(_records(writer.paths)) == 1 + sum(accepted)


def test_a_prefix_whose_directory_cannot_be_made_is_refused_at_once(tmp_path):
    (tmp_path / "a_file").write_text("not a directory")
    with pytest.raises(OSError):
        RequestLogWriter(str(tmp_path / "a_file" / "logs" / "m"))


def test_a_record_that_fails_is_counted_and_logged_without_its_payload(tmp_path, caplog):
    writer = RequestLogWriter(str(tmp_path / "m"))

    def broken() -> bytes:
        raise ValueError("cannot serialize")

    before = _log_count("writer_broken", "DATA_LOSS")
    with caplog.at_level(logging.ERROR, logger="serving.request_log"):
        writer.submit(PendingRecord("writer_broken", broken))
        writer.submit(PendingRecord("writer_broken", broken))
        writer.submit(_record("writer_broken", b"SECRET-PAYLOAD"))
        writer.close()
    assert _log_count("writer_broken", "DATA_LOSS") == before + 2
    failures = [record for record in caplog.records if "request_log_write_failed" in record.message]
    assert len(failures) == 1  # once per kind of error
    assert "cannot serialize" in failures[0].message
    assert all("SECRET-PAYLOAD" not in record.message for record in caplog.records)
    assert _records(writer.paths) == [b"SECRET-PAYLOAD"]


def test_files_hold_no_more_records_than_a_warmup_file_may_by_default(tmp_path):
    from serving.contract import MAX_WARMUP_RECORDS

    assert RequestLogWriter(str(tmp_path / "m")).max_file_records == MAX_WARMUP_RECORDS
