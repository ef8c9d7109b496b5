"""The project's own Python package: settings, clock, dates, intents and PII masking shared by
everything, the billing backend (`billing`), the channels (`channels`), the support console
(`console`) and its tickets (`support`), the web service (`web`), the rules engine (`rules`), the
Rasa entry point and its stores (`rasa_main`, `rasa_stores`) and the launchers (`ops`)."""
