"""Compressing a teacher (thesis ch. 2, ESNAC): teacher graphs from the zoo, CIFAR ResNets, VGG
stacks and layer lists (``teachers``), the reward of eq. 2.2 (``reward``), distillation training
of candidates with weight inheritance and the cached teacher (``distill``, ``teacher_cache``),
and the search workflow with its final fine-tuning stage (``workflow``). Importing the package
imports no torch; the training modules do."""
