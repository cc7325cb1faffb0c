"""The colours of the drawn diagrams (the VGG19 schematic, the representations composite)."""
PURPLE = "#5e35b1"   # convolutions; content
AMBER = "#ef8f00"    # pooling; style
LILAC = "#c9c3da"    # the other convolutions of a block
INK = "#222222"      # text
