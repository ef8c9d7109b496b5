"""The Rasa and rasa-sdk versions the project's patches were written for, checked at import.

Some modules reach into Rasa's private parts: bot/rasa_main.py replaces
`RemoteAction._validate_action_result` and `Agent._create_tracker_store`; bot/rasa_stores.py
subclasses `SQLTrackerStore` and calls its `_additional_events` and `_stream_new_events`; the
channels (bot/channels/rest.py, bot/channels/socketio.py) subclass Rasa's `RestInput` and
`SocketIOInput`, and the REST channel drives the processor's `_run_prediction_loop`;
bot/action_server.py builds rasa-sdk's Sanic app itself and configures it with rasa-sdk's
utilities. None of that is a public API: a new Rasa may keep every name and change what it means,
and the assistant would start and misbehave. So each of those modules calls `require()` when it
is imported, and a version other than the one below stops the service at start with an error
naming the module and both versions.

To upgrade: read each module's patches against the new version's source, run the whole suite,
then change the versions here (and requirements.txt).
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

# distribution -> the versions the patches were written for (requirements.txt pins inside them)
PATCHED_FOR = {
    "rasa": SpecifierSet("==3.6.21"),
    "rasa-sdk": SpecifierSet("~=3.6.0"),  # any 3.6.x
}


class UnsupportedRasaVersion(RuntimeError):
    """The installed Rasa or rasa-sdk is not the one a module's patches were written for."""


def installed_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "none"


def _module_name(module: str) -> str:
    # `python -m bot.rasa_main` runs the module as __main__; its spec has the real name
    if module == "__main__":
        spec = getattr(sys.modules.get("__main__"), "__spec__", None)
        return spec.name if spec is not None else module
    return module


def require(distribution: str, module: str) -> None:
    """Raise UnsupportedRasaVersion unless `distribution` is installed at a version `module`
    (pass `__name__`) was written for."""
    wanted = PATCHED_FOR[distribution]
    found = installed_version(distribution)
    try:
        supported = Version(found) in wanted
    except InvalidVersion:
        supported = False
    if not supported:
        raise UnsupportedRasaVersion(
            f"{_module_name(module)} uses private APIs of {distribution}, written for {distribution} {wanted}, "
            f"and {distribution} {found} is installed. Install the version in requirements.txt, or check "
            f"the module's patches against {distribution} {found} and update bot/rasa_compat.py."
        )
