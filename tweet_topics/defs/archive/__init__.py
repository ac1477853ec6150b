"""Archive import and deletions (issue 25): import_archive_job."""
