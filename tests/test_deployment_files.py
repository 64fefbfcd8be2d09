"""No Docker engine runs here, so these keep the deployment files in step with the code."""

import re

import yaml
from pydantic import AliasChoices

from app.cli import cli
from app.core.config import Settings
from tests.conftest import PROJECT_ROOT


def _setting_names() -> set[str]:
    names = set()
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            names.update(str(choice) for choice in alias.choices)
        else:
            names.add(f"TECHEX_{name.upper()}")
    return names


def _env_example_names() -> set[str]:
    text = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def test_every_setting_is_documented_in_env_example() -> None:
    assert _setting_names() - _env_example_names() == set()


def test_env_example_names_only_real_settings() -> None:
    assert _env_example_names() - _setting_names() == set()


def test_compose_passes_only_real_settings() -> None:
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
    api_environment = set(compose["services"]["api"]["environment"])
    assert api_environment <= _setting_names()
    assert compose["services"]["meilisearch"]["image"] == "getmeili/meilisearch:v1.21.0"
    assert compose["services"]["db"]["image"].startswith("postgres:16")


def test_dockerfile_runs_existing_commands_as_non_root() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    commands = {
        command.name or command.callback.__name__.replace("_", "-") for command in cli.registered_commands
    }  # type: ignore[union-attr]
    for used in re.findall(r"techex (\w[\w-]*)", dockerfile.split("CMD", 1)[1]):
        assert used in commands
    assert "USER techex" in dockerfile and "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile
