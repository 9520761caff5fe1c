! A Fortran OpenMP program whose whole run is one `parallel do schedule(dynamic)` with a
! reduction (flang lowers it to the same libomp calls as clang, through OpenMPIRBuilder).  flang
! emits no unwind tables: before P17 every checkpoint waited for the region's end.
program omp
  implicit none
  integer :: i, s, n
  integer(8) :: total, v
  character(len=32) :: arg
  call get_command_argument(1, arg)
  read(arg, *) n
  total = 0
  !$omp parallel do schedule(dynamic, 16) reduction(+:total) private(v, s)
  do i = 1, n
    v = i
    do s = 1, 300
      v = mod(v * 1103515245_8 + 12345_8 + s, 1000003_8)
    end do
    total = total + v
  end do
  !$omp end parallel do
  print '(a,i0)', 'total ', total
end program
