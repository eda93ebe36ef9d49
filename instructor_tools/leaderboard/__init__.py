"""The Q8.8 challenge's self-hosted leaderboard: a FastAPI service over SQLite (store.py),
scoring of test.py's predictions.csv (scoring.py), the rules (service.py), the web pages and
API (app.py) and the `leaderboard` staff command (cli.py)."""
