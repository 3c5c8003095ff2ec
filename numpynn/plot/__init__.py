"""Figures a course asks for: learning curves, confusion matrices, image and weight grids,
activation functions with their derivatives, and gradient-descent paths over contours.

Every function takes plain NumPy arrays or dicts, returns the matplotlib ``Figure`` and, given
``path=``, saves a PNG atomically and closes the figure.

Showing a figure, once. pyplot makes each figure, and at once closes it again unless a window
shows it, so pyplot keeps no list of them:

- In Jupyter, a cell whose last line calls a plot function shows the figure once: the returned
  ``Figure`` displays itself, and the inline backend has no open figure to draw a second time
  at the end of the cell. ``fig = plot.learning_curves(history)`` shows nothing until ``fig``
  is a cell's last line (or ``display(fig)``).
- In a script with a window backend (TkAgg, QtAgg, macOS) the figures stay open in pyplot, so
  ``plt.show()`` after the plot calls opens them all, as for any pyplot figure.
- Headless (Agg, CI) nothing can be shown: pass ``path=`` or call ``fig.savefig(...)``;
  ``plt.show()`` and ``plt.savefig()`` see no figure of ours (matplotlib >= 3.11:
  ``plt.figure(fig)`` hands one back to pyplot).

matplotlib is imported inside the functions, never at module import, so ``import numpynn.plot``
stays cheap. When no display is available (no ``$DISPLAY``/``$WAYLAND_DISPLAY``, or under CI) the
Agg backend is selected first — unless the user already chose a backend (pyplot imported, as
``%matplotlib`` does, or ``$MPLBACKEND`` set, as Jupyter kernels do).

One module per kind of figure: ``curves``, ``confusion``, ``images`` (image and weight grids),
``conv`` (convolution filters and feature maps), ``activations`` and ``descent``; ``_figure`` holds what they share (pyplot, saving, checks).

>>> import numpy as np
>>> from numpynn import plot
>>> fig = plot.confusion_matrix([0, 1, 1, 2], [0, 2, 1, 2], class_names=["a", "b", "c"],
...                             path="runs/demo/confusion.png")     # doctest: +SKIP
"""
from numpynn.plot._figure import DPI, save_figure
from numpynn.plot.activations import activation_functions
from numpynn.plot.conv import conv_filters, feature_maps
from numpynn.plot.confusion import ANNOTATE_MAX_CLASSES, confusion_counts, confusion_matrix
from numpynn.plot.curves import learning_curves
from numpynn.plot.descent import GRID_POINTS, descent_contours
from numpynn.plot.images import WRONG_COLOR, image_grid, misclassified_order, weight_grid

__all__ = ["save_figure", "learning_curves", "confusion_counts", "confusion_matrix",
           "misclassified_order", "image_grid", "weight_grid", "conv_filters", "feature_maps",
           "activation_functions",
           "descent_contours", "DPI", "ANNOTATE_MAX_CLASSES", "WRONG_COLOR", "GRID_POINTS"]
