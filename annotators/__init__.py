"""Branch annotators (speech, music, sound) behind one base class and one registry."""
