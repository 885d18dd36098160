"""The classify task: a video clip or a price series -> one label."""
