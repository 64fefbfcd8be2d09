"""Settings whose defaults depend on other settings."""

import pytest

from app.core.config import Settings


@pytest.fixture(autouse=True)
def _no_address_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PORT", "TECHEX_HOST", "TECHEX_PUBLIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_public_base_url_follows_the_port_the_api_listens_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Certificates print {public_base_url}/verify/{number} as a QR code: under PORT=18700
    it named port 8000, a refused connection."""
    assert Settings(_env_file=None).public_base_url == "http://127.0.0.1:8000"
    monkeypatch.setenv("PORT", "18700")
    assert Settings(_env_file=None).public_base_url == "http://127.0.0.1:18700"
    monkeypatch.setenv("TECHEX_HOST", "192.0.2.10")
    assert Settings(_env_file=None).public_base_url == "http://192.0.2.10:18700"


def test_public_base_url_of_a_wildcard_host_is_the_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    # 0.0.0.0 (the Docker image's host) is where the server listens, not an address to visit.
    monkeypatch.setenv("TECHEX_HOST", "0.0.0.0")  # noqa: S104
    assert Settings(_env_file=None).public_base_url == "http://127.0.0.1:8000"
    monkeypatch.setenv("TECHEX_HOST", "::")
    assert Settings(_env_file=None).public_base_url == "http://[::1]:8000"


def test_a_configured_public_base_url_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "18700")
    monkeypatch.setenv("TECHEX_PUBLIC_BASE_URL", "https://techex.example.gov.cn")
    assert Settings(_env_file=None).public_base_url == "https://techex.example.gov.cn"
