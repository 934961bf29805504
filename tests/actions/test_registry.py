"""rasa_sdk registers exactly the project's actions, as the domain names them."""

from pathlib import Path

import yaml
from rasa_sdk.executor import ActionExecutor

ROOT = Path(__file__).resolve().parents[2]


def test_every_domain_action_is_registered_and_nothing_else() -> None:
    executor = ActionExecutor()
    executor.register_package("actions")
    domain = yaml.safe_load((ROOT / "domain" / "core.yml").read_text(encoding="utf-8"))
    assert set(executor.actions) == set(domain["actions"])
