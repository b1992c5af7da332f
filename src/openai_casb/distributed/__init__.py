"""Scale-out on Celery (optional extra `openai-casb[distributed]`): workers, a scheduler, shared quotas.

Nothing in this package imports Celery at import time except `celery_app` and `tasks`, so the
base install keeps working without the extra. See docs/distributed.md.
"""
