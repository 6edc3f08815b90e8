"""The morning alerts (docs/alerts.md): rules -> conditions -> store -> messages in French -> sending."""
