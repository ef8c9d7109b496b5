"""The production profile's nginx configuration: valid for nginx itself, and WhatsApp webhooks on
one replica (the channel orders a customer's messages inside one process)."""

from __future__ import annotations

import re
import subprocess

from bot.action_server import MAX_REQUEST_BYTES as ACTION_REQUEST_MAX_BYTES
from bot.ops.run_prod import REPLICAS, nginx_binary, nginx_config
from bot.settings import Settings
from tests.harness.services import service_missing


def test_whatsapp_webhooks_go_to_one_replica_with_the_other_as_backup(tmp_path):
    settings = Settings(_env_file=None, rasa_port=15005, action_port=15055)
    config = nginx_config(settings, tmp_path).read_text()
    block = re.search(r"upstream rasa_whatsapp \{(.*?)\}", config, re.S).group(1)
    servers = re.findall(r"server (\S+) [^;]*?(backup)?;", block)
    assert [address for address, backup in servers if not backup] == ["127.0.0.1:15006"]
    assert len(servers) == REPLICAS
    assert re.search(r"location /webhooks/whatsapp/ \{[^}]*\}?[^}]*proxy_pass http://rasa_whatsapp;", config)


def test_action_calls_may_carry_the_whole_tracker_and_domain(tmp_path):
    """Customers' bodies are capped at MAX_REQUEST_BYTES; Rasa's action calls (tracker and
    domain, far larger) go through the action servers' nginx up to the action server's own cap."""
    config = nginx_config(Settings(_env_file=None, max_request_bytes=65536), tmp_path).read_text()
    action_block = config[config.index("listen 127.0.0.1:") :]
    assert f"client_max_body_size {ACTION_REQUEST_MAX_BYTES};" in action_block
    assert ACTION_REQUEST_MAX_BYTES > 1024 * 1024


def test_nginx_accepts_the_configuration(tmp_path):
    nginx = nginx_binary()
    if not nginx:
        service_missing("nginx (Debian: nginx-light)", FileNotFoundError("nginx"))
    path = nginx_config(Settings(_env_file=None), tmp_path)
    for folder in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / folder).mkdir(exist_ok=True)
    result = subprocess.run([nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(path)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
