"""``numpynn playground``: a local web page that trains a network live and shows the numbers of
backpropagation (the decision boundary, every neuron's map, the weights and their gradients,
and any neuron's or edge's worked forward and backward pass, as ``numpynn explain`` prints it).

Training runs here, in numpynn; the page only draws. The modules, in the order data flows:
:mod:`settings` (the page's settings, validated, and the CSV upload), :mod:`session` (one
tab's data, network and Trainer), :mod:`views` (what a frame and the inspector hold),
:mod:`export` (model, ``numpynn train`` config, Python code) and :mod:`app` (Starlette routes,
the WebSocket and uvicorn; imported only by ``numpynn playground``, so ``import numpynn``
never loads the web stack). Install it with ``pip install "numpynn[playground]"``.
"""
