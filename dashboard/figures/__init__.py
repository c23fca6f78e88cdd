"""Pure plotly figure builders: data in, ``go.Figure`` out (no ``st.*`` calls).

Margins: each builder sets margins that already hold its tick labels, axis titles, legends and colour
bars at the page font, and, where a builder takes ``projector=True``, at instructor mode's larger fonts
(``common.style_figure`` never shrinks them). Plotly's automargin stays on in the pages' template as a
fallback, but every margin it has to grow redraws the whole figure, so a builder that leaves it work
pays a second draw on the page's first paint (bench/RESULTS.md, first paint).
"""
