"""The web service (port 8080): the demo site with the chat widget at `/`, the widget's files
under `/widget/`; the support console will live at `/console`."""
