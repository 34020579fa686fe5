"""Views: view models and static renderers (render), result objects (results), widgets (widgets)
and their ES modules (static/)."""
