from celery import shared_task

from .webhooks import webhook_event_process


@shared_task(acks_late=True)
def process_webhook_event(event_pk: int) -> str:
    return webhook_event_process(event_pk=event_pk)
