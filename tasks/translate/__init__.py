"""The translate task: sentence -> sentence with a BiLSTM encoder and attention."""
