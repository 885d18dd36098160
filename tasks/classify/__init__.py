"""The classify task: a video clip, a price series, a tree or a text -> one label."""
