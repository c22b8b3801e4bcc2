"""PostgreSQL search backend that speaks CKAN's Solr dialect.

Owns: answering CKAN's Solr connection (``make_connection``) from a
PostgreSQL table, so the whole of CKAN works without Solr. CKAN's own search
logic stays in charge: parameter checks, permission labels, the
``before_dataset_index``/``before_dataset_search`` hooks of every plugin.

Modules: ``fields`` (field types of CKAN's Solr schema), ``analysis`` (text
folding, document flattening), ``storage`` (the table, writes), ``lucene``
(Lucene syntax -> SQL), ``dismax`` (free text with qf/mm), ``datemath``,
``connection`` (the pysolr-compatible object), ``backend`` (installing it).

Must not touch: CKAN's own tables, or anything when ``CKAN_SOLR_URL`` /
real Solr is configured (the plugin is then not enabled).
"""
