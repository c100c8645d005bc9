//! PLACEHOLDER (owned by the kernel helper): kernelspecs, launching, the Jupyter client.
