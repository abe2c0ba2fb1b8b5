"""The built-in detector plugins of benchbench, installed as ``benchbench_plugins``.

Each module or package here implements the hooks of :mod:`benchbench.hookspecs` exactly as a
third-party plugin would, and is listed in ``benchbench.plugins.DEFAULT_PLUGINS``:

* :mod:`benchbench_plugins.autoencoder`: ``autoencoder``, an LSTM encoder-decoder (torch);
* :mod:`benchbench_plugins.lstm_ar`: ``lstm_ar``, a PixelRNN-style autoregressive LSTM density
  model over 256 quantised levels (or a mixture-of-Gaussians head) (torch);
* :mod:`benchbench_plugins.tadgan`: ``tadgan``, TadGAN (encoder, generator and two critics trained
  with WGAN-GP and cycle consistency), and ``gan``, the same networks trained with the standard
  GAN cross-entropy: a loss ablation (torch);
* :mod:`benchbench_plugins.vae`: ``vae``, an LSTM variational autoencoder trained on the ELBO
  (closed-form KL to N(0, I), ``beta``), scored by reconstruction error or Monte Carlo NLL (torch);
* :mod:`benchbench_plugins.zscore`: ``zscore``, the rolling z-score baseline (no training).

Importing a plugin must stay cheap: the CLI imports all of them at start-up to list the
detectors, so torch and other heavy libraries are imported inside ``fit``.
"""
