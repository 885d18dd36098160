"""What every layer of the house uses: atomic file writes, the errors a user can act
on, the training and decoding settings every task shares, and figure files."""
