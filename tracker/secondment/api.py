"""JSON API of the secondment programme."""
