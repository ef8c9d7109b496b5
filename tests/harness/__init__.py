"""The tests' process plumbing, so that tests/conftest.py holds only fixtures:

- processes: free ports, starting a command or a launcher with its log, waiting, stopping a tree;
- rest: the REST channel's credentials and the one `say()`;
- assistant: `make run` (`running_assistant`) and either profile's launcher (`launch_profile`);
- stack: billing backend, action server and Rasa server for conversation tests (`running_stack`);
- production: what the production profile demands (RabbitMQ account, secrets, passwords);
- services: the machine's PostgreSQL (a temporary database) and "missing service" (fails under CI);
- markers: marks the tests that start processes `services` (loaded from pytest.ini);
- responses: domain.yml responses rendered as Rasa renders them, for in-process action tests.
"""
