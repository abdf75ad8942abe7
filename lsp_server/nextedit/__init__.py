"""Next-edit suggestions: edit history, editable region, model formats, answers to edits."""
