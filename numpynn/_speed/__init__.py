"""Private: every speed mechanism of numpynn, in one place a student can skip.

The teaching code (``functional``, ``layers``, ``sequential``, ``optim``) reads like the
textbook: layers allocate new arrays, ``Sequential`` is a loop, each optimizer's ``_update`` is
its formula. Training runs the same math faster through the pieces below, each chosen by one
switch and proven equal to the readable path by a test.

The design, in the order a training step meets it:

1. **Packed parameters** (:func:`segments.pack`, called by ``Sequential``): all parameters, and
   all gradients, live in one flat, 64-byte aligned buffer each; every layer holds views. An
   optimizer then updates the whole model as one vector, in a few NumPy calls whatever the
   number of layers.
2. **The step workspace** (:mod:`workspace`, used by the Trainer's loop): forward and backward
   run the layers' own kernels into arrays kept from the previous step (one plan of arrays
   per batch shape), and the backward pass skips the first layer's input gradient (the
   largest product of the pass). A batch of one sample computes each ``dW`` as the outer
   product it is (:func:`blas.outer`), which NumPy's matmul runs 12x slower.
3. **Fast updates** (:mod:`fast_update`, :mod:`rules`; ``Optimizer(fast=True)``, the default):
   each rule rewritten in place into preallocated scratch, over L2-sized blocks of the packed
   vector (:mod:`segments`), SGD's ``p -= lr·d`` and momentum as BLAS ``axpy`` calls from
   NumPy's own OpenBLAS (:mod:`blas`, self-checked, NumPy fallback), and decaying state flushed
   of subnormal floats every 16 steps (:mod:`subnormals`). ``fast=False`` runs the reference.
4. **Aligned arrays** (:mod:`aligned`): the arrays made once and used every step start on a
   cache line, as PyTorch's do.
5. **Threads by step size** (:mod:`step_threads`, used by the Trainer's loop): when the user
   chose no thread count, steps under 8 MFLOP (the seed MLP up to batch 5) run on one BLAS thread,
   where a second one costs more than it gives.

Equality: the fast and reference optimizer updates agree to 1e-10 in float64 for every option
(tests/test_optim.py); a Trainer epoch equals the textbook loop of ``model.forward`` /
``model.backward`` / ``opt.step`` bit for bit (tests/test_trainer.py). What each piece gains is
measured in docs/performance.md.
"""
