from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Hashed, compressed static files; `import './x.js'` inside our ES modules is rewritten
    to the hashed name too, so a deploy never mixes old and new modules."""

    support_js_module_import_aggregation = True
