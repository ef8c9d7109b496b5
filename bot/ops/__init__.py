"""Operations tooling: training when needed, starting the services, evaluation."""
