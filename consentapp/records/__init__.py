"""The record service: sign -> commit -> render the PDF -> store it."""
