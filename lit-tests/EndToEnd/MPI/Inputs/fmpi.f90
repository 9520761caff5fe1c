! MPI from Fortran (mpif.h): the bindings mpi_init_ etc. are refused at the first call (M18).
program p
  implicit none
  include 'mpif.h'
  integer :: ierr, rank
  call MPI_Init(ierr)
  call MPI_Comm_rank(MPI_COMM_WORLD, rank, ierr)
  print *, 'rank', rank
  call MPI_Finalize(ierr)
end program p
