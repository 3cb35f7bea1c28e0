"""Privacy (UK GDPR): retention of what people typed, subject access, erasure.

* :mod:`bot.privacy.retention` purges texts older than ``ITBOT_RETENTION_DAYS``
  (``itbot privacy purge`` and a job inside ``itbot serve``);
* :mod:`bot.privacy.subject` gathers everything held about one person
  (``itbot privacy export``);
* :mod:`bot.privacy.erasure` removes one person (``itbot privacy erase``), keeping the
  tickets they raised for the desk, anonymised.

The package sits beside :mod:`bot.access`: it reads and changes the tables of storage,
the desk and access, and imports nothing above them.
"""
