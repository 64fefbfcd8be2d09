import json
import logging

import pytest

from app.core.logging import configure_logging, request_id_var


def test_log_lines_are_json_with_request_id_and_no_secrets(capsys: pytest.CaptureFixture[str]) -> None:
    import structlog

    configure_logging("INFO", json=True)
    token = request_id_var.set("req-123")
    try:
        structlog.get_logger("test").info(
            "signed_in", password="hunter2-secret", refresh_token="abc", email="a@b.cn"
        )
    finally:
        request_id_var.reset(token)
    line = capsys.readouterr().err.strip().splitlines()[-1]
    record = json.loads(line)
    assert record["event"] == "signed_in" and record["request_id"] == "req-123"
    assert record["password"] == "***" and record["refresh_token"] == "***"
    assert "hunter2-secret" not in line
    configure_logging("WARNING", json=True)
    assert logging.getLogger().level == logging.WARNING
