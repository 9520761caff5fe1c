! What real Fortran codes keep in memory: a module whose allocatable array of a derived type has
! allocatable components (allocated by flang's runtime, _FortranAAllocatableAllocate), reallocated
! on assignment, array temporaries, a namelist read from an input deck (opened and closed before
! the work), internal I/O, command arguments read during the work, and STOP.  Checkpoints land in the work loops; after a restart every
! allocation must be where it was.
module fields
  implicit none
  type field_t
    real(8), allocatable :: v(:)
    integer, allocatable :: hist(:)
    character(len=:), allocatable :: label
  end type
  type(field_t), allocatable :: f(:)
  integer :: nfields = 3, steps = 40, n = 4000
  namelist /run/ nfields, steps, n
contains
  subroutine relax(x, m)
    type(field_t), intent(inout) :: x
    integer, intent(in) :: m
    integer :: k
    do k = 2, m - 1
      x%v(k) = 0.5d0 * x%v(k) + 0.25d0 * (x%v(k - 1) + x%v(k + 1))
    end do
    x%hist = [x%hist, int(sum(x%v))]   ! grows by one: reallocated on assignment
  end subroutine
end module

program allocatable
  use fields
  implicit none
  integer :: i, k, step, u
  character(len=256) :: deck
  character(len=64) :: line
  real(8), allocatable :: tmp(:)
  call get_command_argument(1, deck)
  open(newunit=u, file=trim(deck), status='old', action='read')
  read(u, nml=run)
  close(u)
  allocate(f(nfields))
  do i = 1, nfields
    allocate(f(i)%v(n * i))
    f(i)%v = [(dble(mod(k * 7 + i, 13)), k = 1, size(f(i)%v))]
    allocate(f(i)%hist(0))
    write(line, '(a,i0)') 'field-', i
    f(i)%label = trim(line)
  end do
  do step = 1, steps
    do i = 1, nfields
      call relax(f(i), size(f(i)%v))
    end do
    tmp = f(1)%v(1:10) * 2      ! an allocatable temporary, reallocated every step
    if (mod(step, 10) == 0) then
      write(line, '(a,i0,a,es18.10)') 'step ', step, ' sum ', sum(tmp)
      print '(a)', trim(line)
      print '(3(a,1x,i0,1x))', (f(i)%label, f(i)%hist(step), i = 1, nfields)
      call get_command_argument(1, deck)   ! flang's runtime knows the arguments after a restart
      print '(a,i0,1x,a)', 'arguments ', command_argument_count(), trim(deck(index(deck, '/', .true.) + 1:))
    end if
  end do
  print '(a,3i6)', 'sizes', (size(f(i)%hist), i = 1, nfields)
  stop
end program
