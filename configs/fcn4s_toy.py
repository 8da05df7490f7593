# Entry point of the CPU demo (tools/demo.sh) and the tests: light FCN-4s on the built-in
# shapes. The config itself: fcn_skip/fcn4s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py.
_base_ = './fcn_skip/fcn4s_vgg16-light-bn_1xb4-1200it_toyshapes-128x128.py'
