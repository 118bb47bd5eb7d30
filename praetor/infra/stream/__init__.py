"""The distributed mode's stream worker: it applies the Kafka topics to the read models.

`processor` applies batches of `records` in read-model transactions and does not depend on
a Kafka client. `faust_worker` feeds it from Kafka with faust-streaming, and `messages`
contains the conversions between event-store notifications and Kafka messages.
"""
