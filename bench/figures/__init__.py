"""One module per kind of figure; each public function measures one figure (or one family of them)."""
