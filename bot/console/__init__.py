"""The support console (`/console` on the web service): login, handoff queue, live chat."""
