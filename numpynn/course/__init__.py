"""The teachers' tools, built on the core: worked solutions of small networks (:mod:`explain`,
with network files and the bundled examples in :mod:`networks`) and of a tiny convolution and
max pool (:mod:`explain_conv`, ``nn.explain_conv`` / ``nn.explain_pool``), gradient descent on a 2-D
function (:mod:`descent`, ``nn.descent``), exact fits through points (:mod:`fitting`,
``nn.fit_points``) and matrix-calculus identities checked by autograd (:mod:`matrix_calculus`)."""
