"""Recording without a link: the app shell a service worker keeps for mission users, the
drafts and outbox kept in the browser (their scripts are in capdb/static/js/offline-*),
and the pages and data they need from capdb."""
