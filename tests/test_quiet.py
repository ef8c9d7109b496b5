"""What keeps the services' logs readable (issue 11): TensorFlow's start-up notices off in every
child environment; other libraries' deprecation warnings dropped where they are shown
(bot/quiet.py), the project's own kept. The whole start's log is checked in
tests/test_assistant_server.py."""

from __future__ import annotations

import warnings

from bot import quiet
from bot.ops.services import service_environment
from bot.settings import PROJECT_ROOT

SITE_PACKAGES = "/work/.venv/lib/python3.10/site-packages"


def test_tensorflow_notices_are_off_in_every_child_environment_unless_asked_for():
    assert service_environment(base={})["TF_CPP_MIN_LOG_LEVEL"] == "2"
    assert service_environment(base={"TF_CPP_MIN_LOG_LEVEL": "0"})["TF_CPP_MIN_LOG_LEVEL"] == "0"


def test_other_libraries_deprecations_are_dropped_and_the_projects_are_shown():
    library = f"{SITE_PACKAGES}/sanic_cors/extension.py"
    assert not quiet.is_shown(DeprecationWarning, library)
    assert quiet.is_shown(DeprecationWarning, str(PROJECT_ROOT / "bot" / "channels" / "rest.py"))
    assert quiet.is_shown(DeprecationWarning, str(PROJECT_ROOT / "actions" / "bills.py"))
    assert quiet.is_shown(UserWarning, library)  # not a deprecation: shown as before
    assert quiet.is_shown(RuntimeWarning, library)


def test_the_hook_is_where_python_shows_warnings():
    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")  # as Sanic's "once" for every DeprecationWarning
        warnings.showwarning = quiet._show_unless_other_libraries_deprecation  # catch_warnings restores it
        warnings.warn_explicit("old API", DeprecationWarning, f"{SITE_PACKAGES}/lib/mod.py", 1)
        warnings.warn_explicit("our old API", DeprecationWarning, str(PROJECT_ROOT / "bot" / "x.py"), 1)
        warnings.warn_explicit("something odd", UserWarning, f"{SITE_PACKAGES}/lib/mod.py", 2)
    assert [str(w.message) for w in shown] == ["our old API", "something odd"]
