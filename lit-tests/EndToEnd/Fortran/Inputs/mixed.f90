! A Fortran driver with C kernels (Inputs/kernels.c) called through ISO_C_BINDING: the array is
! Fortran's (an allocatable in a module), the scratch buffer C's (malloc), kept as a c_ptr.
module kernels
  use iso_c_binding
  implicit none
  interface
    function kernel_scratch(n) bind(c, name='kernel_scratch')
      import :: c_int, c_ptr
      integer(c_int), value :: n
      type(c_ptr) :: kernel_scratch
    end function
    function kernel_sweep(v, scratch, n, reps) bind(c, name='kernel_sweep')
      import :: c_double, c_int, c_ptr
      real(c_double) :: v(*)
      type(c_ptr), value :: scratch
      integer(c_int), value :: n, reps
      real(c_double) :: kernel_sweep
    end function
  end interface
  real(c_double), allocatable, target :: grid(:)
  type(c_ptr) :: scratch
end module

program mixed
  use kernels
  implicit none
  integer(c_int) :: n = 5000
  integer :: step
  real(c_double) :: s, total
  allocate(grid(n))
  grid = 1.0d0
  scratch = kernel_scratch(n)
  total = 0
  do step = 1, 30
    s = kernel_sweep(grid, scratch, n, 20_c_int)
    total = total + s
    if (mod(step, 5) == 0) print '(a,i0,a,es20.12)', 'step ', step, ' total ', total
  end do
  print '(a,es20.12)', 'done ', total
end program
