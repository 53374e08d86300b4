"""Writes bench.af: a 784-128-64-32-10 relu/softmax network with random weights (seeded)."""
import base64, random, struct, sys
sizes = [784, 128, 64, 32, 10]
rnd = random.Random(1)
vals = []
for k, m in zip(sizes, sizes[1:]):
    lim = (6.0 / k) ** 0.5
    vals += [rnd.uniform(-lim, lim) for _ in range(k * m)] + [0.0] * m
b = base64.b64encode(struct.pack('<%df' % len(vals), *vals)).decode()
body = '\n'.join(b[i:i + 76] for i in range(0, len(b), 76))
open(sys.argv[1] if len(sys.argv) > 1 else 'bench.af', 'w').write(f'''name: "bench"
neural_config:
  network_type: "feedforward"
  input_size: 784
  output_size: 10
  hidden_layers: [128, 64, 32]
  activation_function: "relu"
  output_activation: "softmax"
---BINARY_SECTION:neural_weights---
{body}
''')
