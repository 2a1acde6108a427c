"""Where each choice and rate sits in the `codes` and `hyper` arrays the kernels take."""

# codes (int64)
ACTIVATION = 0  # backprop_lab.engine.kernels.activations.LINEAR … LEAKY_RELU
CLASSIFY = 1  # 1: softmax output (classification), 0: linear output (regression)
LOSS = 2  # backprop_lab.engine.kernels.losses.CROSS_ENTROPY or MSE
REGULARIZATION = 3  # backprop_lab.engine.kernels.regularization.NONE, L1 or L2
OPTIMIZER = 4  # backprop_lab.engine.kernels.optimizers.SGD, MOMENTUM or ADAM
N_CODES = 5

# hyper (float64)
LEARNING_RATE = 0
MOMENTUM = 1
REGULARIZATION_RATE = 2
N_HYPER = 3

# layout (L, 5) int64 columns
N_IN = 0
N_OUT = 1
WEIGHTS_AT = 2  # offset of the layer's (n_in, n_out) weights in θ
BIASES_AT = 3  # offset of its (n_out,) biases in θ
UNITS_AT = 4  # how many units (neurons) all layers before it have

# counters (int64) of a trainer
STEP = 0  # steps taken
EPOCH = 1  # epochs completed
POSITION = 2  # row of the epoch's order where the next batch starts
OPTIMIZER_STEPS = 3  # updates the optimiser has made (Adam's t; momentum's first step)
ORDER = 4  # which of the epoch orders drawn ahead the current epoch follows
SNAPSHOT_EVERY = 5  # keep a copy of θ after every step that is a multiple of this (0: none)
SNAPSHOTS = 6  # copies kept in the snapshot buffer so far
LAST = 7  # which row of the (2, P) gradient and update buffers holds the last accepted step's
DEADLINE = 8  # `training.train` returns after the step that ends past this monotonic_ns reading (0: none)
N_COUNTERS = 9
