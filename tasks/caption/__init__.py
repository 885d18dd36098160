"""The caption task: image -> sentence with a CNN encoder and an attentional decoder."""
